// Package siglip is the SigLIP vision transformer (transformers'
// modeling_siglip.py) that several vision-language families put in front of
// their text model: the patch embedding and learned position table, the
// pre-norm encoder layers with bidirectional attention and a GELU MLP, and
// post_layernorm. It is written once against model.VisionOps; each family
// reads its own config.json, binds the Tower under its own prefix, embeds it
// in its model.Definition (Tower has model.Vision's VisionLayers,
// VisionEmbed and VisionLayer), and keeps what follows post_layernorm (Gemma 3's pooling projector, Idefics3's pixel
// shuffle connector).
//
// Who may import me: the model families whose vision tower is SigLIP (gemma3, idefics3).
package siglip
