// Package qwenvit is Qwen2.5-VL's vision transformer
// (Qwen2_5_VisionTransformerPretrainedModel in transformers'
// modeling_qwen2_5_vl.py), which reads each image at its own size: the
// image processor cuts it into a grid of 14×14-pixel patches of two frames
// (the image repeated), in blocks of 2×2 patches; the Conv3d patch
// embedding is one linear layer over each patch; every layer rotates
// queries and keys by the patch's row and column (2-D rotary); most layers
// attend within windows of 112×112 pixels, the rows permuted so that each
// window's patches are consecutive, and the layers of
// fullatt_block_indexes over the whole image; the PatchMerger (RMSNorm,
// each 2×2 block as one row, Linear–GELU–Linear) gives one embedding of the
// text model's width per block, and the permutation is undone.
//
// Qwen2-VL's tower (Qwen2VisionTransformerPretrainedModel,
// modeling_qwen2_vl.py) is the same with LayerNorms, an fc1–QuickGELU–fc2
// MLP and no windows: ParseQwen2VLConfig reads its vision_config into a
// Config with Qwen2VL set.
//
// It is written once against model.VisionOps (the image's grid comes from
// VisionOps.Grid); a family reads vision_config with ParseConfig, binds the
// Tower under its own prefix, and embeds it in its model.Definition, which
// then has model.Vision's VisionLayers, VisionEmbed, VisionLayer and
// VisionHead; the family adds Image, with Spec's fields.
//
// Who may import me: the model families whose vision tower is Qwen2.5-VL's (qwen2vl).
package qwenvit
