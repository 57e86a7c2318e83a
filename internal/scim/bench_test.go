package scim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuPerOp reports the process CPU time (user and system) per operation from the moment it
// is called: on a shared machine, CPU per request is steadier than wall time. Use as
// defer cpuPerOp(b)() right after b.ResetTimer.
func cpuPerOp(b *testing.B) func() {
	start := processCPU()
	return func() {
		b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEnv is an env whose requests go straight to the handler, without a socket.
func benchEnv(b *testing.B) (*env, http.Handler) {
	e := newEnvTB(b)
	return e, e.handler
}

func benchDo(b *testing.B, h http.Handler, token, method, path string, body []byte) int {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	_, _ = io.Copy(io.Discard, rec.Body)
	return rec.Code
}

func seedUsers(b *testing.B, e *env, h http.Handler, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		body, _ := json.Marshal(user(fmt.Sprintf("seed-%d@example.com", i), fmt.Sprintf("ext-%d", i)))
		req := httptest.NewRequest("POST", "/scim/v2/Users", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out struct{ ID string }
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		ids[i] = out.ID
	}
	return ids
}

func BenchmarkGetUser(b *testing.B) {
	e, h := benchEnv(b)
	ids := seedUsers(b, e, h, 1000)
	var n atomic.Int64
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if code := benchDo(b, h, e.token, "GET", "/scim/v2/Users/"+ids[i%int64(len(ids))], nil); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
	})
}

func BenchmarkFilterUserName(b *testing.B) {
	e, h := benchEnv(b)
	seedUsers(b, e, h, 1000)
	var n atomic.Int64
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1) % 1000
			path := fmt.Sprintf("/scim/v2/Users?filter=userName+eq+%%22seed-%d@example.com%%22", i)
			if code := benchDo(b, h, e.token, "GET", path, nil); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
	})
}

func BenchmarkCreateUser(b *testing.B) {
	e, h := benchEnv(b)
	var n atomic.Int64
	b.SetParallelism(8) // 16 concurrent writers on 2 cores, as the identity providers' pushes
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body, _ := json.Marshal(user(fmt.Sprintf("new-%d@example.com", i), fmt.Sprintf("x-%d", i)))
			if code := benchDo(b, h, e.token, "POST", "/scim/v2/Users", body); code != 201 {
				b.Fatalf("status %d", code)
			}
		}
	})
}

// BenchmarkPatchUser is the identity providers' most common write: active and displayName
// replaced by path (Entra ID's form), on 1,000 users by 16 writers.
func BenchmarkPatchUser(b *testing.B) {
	e, h := benchEnv(b)
	ids := seedUsers(b, e, h, 1000)
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"replace","path":"active","value":%t},{"op":"replace","path":"displayName","value":"Patched %d"}]}`, i%2 == 0, i)
			if code := benchDo(b, h, e.token, "PATCH", "/scim/v2/Users/"+ids[i%int64(len(ids))], []byte(body)); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
	})
}

// BenchmarkReplaceUser is Okta's profile update: PUT of the whole user.
func BenchmarkReplaceUser(b *testing.B) {
	e, h := benchEnv(b)
	ids := seedUsers(b, e, h, 1000)
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			k := i % int64(len(ids))
			u := user(fmt.Sprintf("seed-%d@example.com", k), fmt.Sprintf("ext-%d", k))
			u["displayName"] = fmt.Sprintf("Replaced %d", i)
			body, _ := json.Marshal(u)
			if code := benchDo(b, h, e.token, "PUT", "/scim/v2/Users/"+ids[k], body); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
	})
}
