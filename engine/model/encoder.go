package model

import (
	"context"
	"fmt"
)

// Encoders (BERT, XLM-RoBERTa, ...) read every token of their input at once:
// attention is bidirectional (Attention.Bidirectional) and the embeddings add
// rows chosen by position and token type to the token's own. Their families
// need the operations below on top of Ops, and executors that run them
// implement EncoderOps and Encoder; an executor without them refuses an
// EncoderDefinition when it loads the model.

// Index is what picks the row of an embedding table for each token of a batch.
type Index int

const (
	ByToken    Index = iota // the token id, as Embed does
	ByPosition              // the token's position in the sequence
	ByType                  // the token's type id (sentence A or B of a pair)
)

// The activations of encoders. Their values stay clear of the ones declared
// in ops.go, which other families extend.
const (
	// GELU is the exact x·Φ(x) with the error function (transformers' "gelu").
	GELU Activation = 16 + iota
	// Tanh is the hyperbolic tangent (BERT's pooler, RoBERTa's classification head).
	Tanh
)

// EncoderOps are the operations of encoder families.
type EncoderOps interface {
	Ops
	// Lookup embeds each token of the batch by the row of w (rows, hidden)
	// that by selects, plus offset (XLM-RoBERTa numbers positions from
	// padding_idx+1): (tokens, hidden).
	Lookup(w *Linear, by Index, offset int) Value
	// Act is act(x) elementwise. It may overwrite x.
	Act(x Value, act Activation) Value
}

// EncoderDefinition is the Definition of an encoder. Its Norm is the identity
// when the layers end with their own norm (post-norm BERT), and its Logits,
// when the model has a classification head, map the hidden state of the first
// token ([CLS], <s>) to Labels scores.
type EncoderDefinition interface {
	Definition
	// Labels is the number of classification scores; 0 when the checkpoint
	// has no head (an embedding model).
	Labels() int
}

// MeanPooling is implemented by an EncoderDefinition whose classification
// head reads the mean of every token's final hidden state rather than the
// first token's (ModernBERT's classifier_pooling "mean"): executors then
// pass Logits that mean, one row per input.
type MeanPooling interface{ MeanPooled() bool }

// MeanPooled reports whether d's classification head reads the mean of the
// final hidden states.
func MeanPooled(d Definition) bool {
	m, ok := d.(MeanPooling)
	return ok && m.MeanPooled()
}

// Encoder is implemented by the sequences of executors that run encoders.
type Encoder interface {
	// Encode runs tokens, with their token type ids (nil: all 0), through an
	// empty sequence in one pass, every token attending to every other, and
	// returns every token's final hidden state, (len(tokens), hidden).
	Encode(ctx context.Context, tokens, types []int32) ([]float32, error)
	// Classify runs tokens like Encode and returns the classification head's
	// scores of the first token, (Labels).
	Classify(ctx context.Context, tokens, types []int32) ([]float32, error)
	// EncodeBatch is Encode of several inputs in one pass through an empty
	// sequence (of room for all their tokens): each input attends only to
	// itself and numbers its positions from 0, so every weight matrix is read
	// once for the batch. types may be nil, or hold nil for an input.
	EncodeBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error)
	// ClassifyBatch is Classify of several inputs in one pass, as EncodeBatch.
	ClassifyBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error)
}

// AsEncoderOps is o as EncoderOps, for an encoder family's forward pass.
// Executors refuse an EncoderDefinition unless they implement them, so
// operations without them are a programming error.
func AsEncoderOps(o Ops) EncoderOps {
	e, ok := o.(EncoderOps)
	if !ok {
		panic(fmt.Sprintf("model: executor operations %T do not run encoders", o))
	}
	return e
}
