package auth

import (
	"context"
	"testing"
)

// BenchmarkPasswordVerify is one sign-in's password check with the production argon2id
// parameters (19 MiB, 2 passes), alone and from many callers at once through the bounded
// pool (the parallel figure is the throughput a replica's CPUs allow). Run with
//
//	go test ./internal/auth -run XXX -bench PasswordVerify
func BenchmarkPasswordVerify(b *testing.B) {
	p := NewPasswords(PasswordConfig{})
	hash, err := p.Hash(context.Background(), "correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("one at a time", func(b *testing.B) {
		for b.Loop() {
			if ok, err := p.Verify(context.Background(), hash, "correct horse battery"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("16 callers", func(b *testing.B) {
		b.SetParallelism(8) // 8 × GOMAXPROCS (2) goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if ok, err := p.Verify(context.Background(), hash, "correct horse battery"); !ok || err != nil {
					b.Error(ok, err)
					return
				}
			}
		})
	})
}
