package engine

import (
	"errors"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// IsDamaged reports whether err is a load failure caused by the model's own files:
// truncated or corrupt weights, or a config that does not describe them. Such a
// model will not load until it is downloaded again, so the API answers with a
// clear client-visible error instead of an opaque 500.
func IsDamaged(err error) bool {
	return errors.Is(err, safetensors.ErrInvalid) || errors.Is(err, model.ErrWeights) || errors.Is(err, model.ErrInvalidConfig)
}
