// Package all registers every supported architecture; import it for its side
// effect wherever models are opened:
//
//	import _ "github.com/mlx-manager/mlx-manager/engine/model/all"
package all

import (
	_ "github.com/mlx-manager/mlx-manager/engine/model/bert"
	_ "github.com/mlx-manager/mlx-manager/engine/model/gemma2"
	_ "github.com/mlx-manager/mlx-manager/engine/model/gemma3"
	_ "github.com/mlx-manager/mlx-manager/engine/model/gptoss"
	_ "github.com/mlx-manager/mlx-manager/engine/model/granite"
	_ "github.com/mlx-manager/mlx-manager/engine/model/idefics3"
	_ "github.com/mlx-manager/mlx-manager/engine/model/llama"
	_ "github.com/mlx-manager/mlx-manager/engine/model/mistral"
	_ "github.com/mlx-manager/mlx-manager/engine/model/mixtral"
	_ "github.com/mlx-manager/mlx-manager/engine/model/modernbert"
	_ "github.com/mlx-manager/mlx-manager/engine/model/nomicbert"
	_ "github.com/mlx-manager/mlx-manager/engine/model/olmo2"
	_ "github.com/mlx-manager/mlx-manager/engine/model/phi3"
	_ "github.com/mlx-manager/mlx-manager/engine/model/qwen2"
	_ "github.com/mlx-manager/mlx-manager/engine/model/qwen2vl"
	_ "github.com/mlx-manager/mlx-manager/engine/model/qwen3"
	_ "github.com/mlx-manager/mlx-manager/engine/model/qwen3moe"
	_ "github.com/mlx-manager/mlx-manager/engine/model/smollm3"
)
