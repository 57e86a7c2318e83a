package roster

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// idClock makes ids of one process strictly increasing: within one millisecond the 12-bit
// rand_a field counts up (RFC 9562 section 6.2, method 1), and when it runs out the
// millisecond moves on.
var idClock struct {
	sync.Mutex
	ms  uint64
	seq uint16
}

// NewID returns a UUID version 7 (RFC 9562 section 5.7): unguessable in its low 62 random
// bits, and ordered by creation time (strictly, within one process), so primary-key inserts
// append to the index instead of scattering across it and keyset pagination by id follows
// creation order.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[8:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	now := uint64(time.Now().UnixMilli())
	idClock.Lock()
	if now > idClock.ms {
		idClock.ms = now
		idClock.seq = uint16(b[8]) << 2 // start low in the range, leaving room to count up
	} else {
		idClock.seq++
		if idClock.seq > 0x0fff {
			idClock.ms++
			idClock.seq = 0
		}
	}
	ms, seq := idClock.ms, idClock.seq
	idClock.Unlock()
	binary.BigEndian.PutUint64(b[:8], ms<<16|uint64(seq))
	b[6] = (b[6] & 0x0f) | 0x70 // version 7
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// ValidID reports whether s has the shape of an id made by NewID (any UUID in canonical
// lower-case form), so handlers can answer 404 for garbage without a query.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
