// Package vision turns the bytes of an image into the pixel tensor a vision
// model's Hugging Face image processor would give it: decode (PNG, JPEG, GIF's
// first frame, WebP), EXIF orientation, RGB, resize with PIL's resampling,
// rescale, normalise, channels first. Idefics3's processor (SmolVLM) splits
// the image into tiles plus a global image first (tiles.go, Tiling);
// Qwen2VLImageProcessor (Qwen2-VL, Qwen2.5-VL) keeps the image near its own
// size and cuts it into a grid of patches (qwen.go, Patches).
//
// transformers' slow image processors hand the resize to PIL
// (image_transforms.resize calls PIL.Image.resize), so a model was trained and
// evaluated on PIL's output. Resize therefore reimplements PIL's separable
// convolution (libImaging/Resample.c) bit for bit, 8-bit fixed-point
// coefficients and rounding included, rather than using golang.org/x/image/draw,
// whose bilinear filter neither antialiases the same way nor rounds the same.
//
// Decoding is Go's, with the last step of the lossy formats redone as PIL's
// libraries do it: chroma upsampling and YUV → RGB are libwebp's for lossy
// WebP (webpycc.go) and libjpeg-turbo's for JPEG (ycc.go). PNG, GIF and WebP
// then give PIL's pixels exactly; JPEG differs by the inverse DCT's rounding
// (a level or two on a few pixels).
//
// Who may import me: engine.
package vision
