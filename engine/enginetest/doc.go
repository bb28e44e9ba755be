// Package enginetest is the conformance suite every executor must pass, in the
// style of testing/slogtest and gomlx's backendtest:
//
//	func TestConformance(t *testing.T) {
//		enginetest.RunAll(t, func(m *model.Model) (model.Runner, error) { return cpu.New(m, ...) })
//	}
//
// RunAll writes tiny random models of every supported variant (each
// architecture, F32/F16/BF16, MLX 4- and 8-bit with groups of 32/64/128, tied
// and untied embeddings, sharded files, odd sizes) into temporary directories,
// opens them, and runs the same token sequences through the runner under test
// and through engine/model/reference. Each check (prefill, single steps,
// chunked prefill, decode, Truncate, Hidden, independent and concurrent
// sequences, error handling) compares logits or hidden states within a
// tolerance that depends on the weights' dtype (see Tolerance), and greedy
// generations must agree except where the reference itself hesitates between
// two tokens. With shared/models present it also checks that stories260K, a
// real trained model, stops by itself when telling its story.
//
// Who may import me: tests only.
package enginetest
