// Package sched runs the sequences of one loaded model together (continuous
// batching, as llama-server's slots and vLLM's scheduler do): on a CPU the
// weights are the bottleneck, so one pass over them for several sequences
// costs little more than for one.
//
// A request first takes one of the model's slots (Admit), then sends every
// forward call through its Slot. Each step advances every slot that has a
// call waiting: one decode token each, plus up to Config.Chunk prompt tokens
// of joining requests, so a long prompt is prefilled in chunks between the
// others' decode steps instead of stalling them. A runner that implements
// model.Batcher runs a step as one ForwardBatch; any other runs one slot per
// step, in turn. The per-request logic (sampling, grammar, stop strings,
// parsing) stays with the caller, between its forward calls.
//
// Fairness: every running sequence advances every step, so a 4,000-token
// answer never starves a short one. The slots are shared between callers (user
// ids) at every step, not only at admission: a caller with no request running
// gets one in at once even when another caller's requests hold every slot, by
// suspending the newest of them (its KV kept, its calls waiting) until the
// shares allow it to resume (see fair.go). Requests beyond the shares wait and
// are admitted round-robin by caller, so one caller's burst cannot hold every
// slot.
//
// A decode step runs as one batch only while that is faster: the scheduler
// times batched steps against one-sequence forwards and picks the faster for
// each batch size, trying the other now and then (see costs: a batch times a
// lone sequence by running one sequence alone and the rest as a batch, and
// does so once more before it gives way). The logits are the same either
// way; what differs is whether the executor's kernels reuse a weight across
// the batch's rows.
//
// A step waits for the slots that are still sampling, at most as long as the
// last step took: a slot that is slower than that (its client reads slowly,
// say) joins the next step instead of holding the others back.
//
// Who may import me: engine, and engine/bench to measure batching.
package sched
