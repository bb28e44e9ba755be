// Command mlx-manager is a local LLM manager: a menu-bar daemon with a localhost web
// UI and an OpenAI-compatible API that downloads Hugging Face models and runs them.
package main

import (
	"os"

	"github.com/mlx-manager/mlx-manager/app"
)

func main() {
	os.Exit(app.Run(os.Args[1:]))
}
