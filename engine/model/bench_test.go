package model_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// BenchmarkOpen is the load path of a small sharded quantized model: config
// parsing, mapping three files and binding every tensor.
func BenchmarkOpen(b *testing.B) {
	dir := modeltest.New(b, modeltest.Spec{Layers: 8, QuantBits: 4, GroupSize: 32, DType: model.BF16, Shards: 3})
	for b.Loop() {
		m, err := model.Open(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}

// BenchmarkDequantizeRow measures the plain reference dequantizer on a row of
// 4096 values (the executors have their own kernels; this bounds the oracle).
func BenchmarkDequantizeRow(b *testing.B) {
	for _, bits := range []int{3, 4, 8} {
		b.Run(map[int]string{3: "3bit", 4: "4bit", 8: "8bit"}[bits], func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			w := make([]float32, 4096)
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			codes, scales, biases, err := model.QuantizeRow(w, bits, 64)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(codes)))
			for b.Loop() {
				if err := model.DequantizeRow(codes, bits, 64, scales, biases, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
