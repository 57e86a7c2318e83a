package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Message is one plain-text email.
type Message struct {
	To, Subject, Body string
}

// Sender sends a message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through a relay with net/smtp: STARTTLS when the relay offers it, and PLAIN
// authentication when a username is set (which net/smtp refuses over an unencrypted
// connection except to localhost).
type SMTP struct {
	// Addr is the relay's host:port.
	Addr string
	// From is the sender address.
	From string
	// Username and Password authenticate, when Username is not empty.
	Username, Password string
	// Timeout bounds one send (default 10s).
	Timeout time.Duration
}

// Send sends m.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if _, err := mail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	if strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return errors.New("mail: header values cannot contain line breaks")
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("mail: relay address %q: %w", s.Addr, err)
	}
	var a smtp.Auth
	if s.Username != "" {
		a = smtp.PlainAuth("", s.Username, s.Password, host)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(s.Addr, a, s.From, []string{m.To}, s.render(m)) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("mail: sending to %s: %w", s.Addr, ctx.Err())
	}
}

// render is the message in RFC 5322 form, CRLF line endings.
func (s *SMTP) render(m Message) []byte {
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := "roster"
	if at := strings.LastIndex(s.From, "@"); at >= 0 {
		domain = strings.Trim(s.From[at+1:], "> ")
	}
	h := []string{
		"From: " + s.From,
		"To: " + m.To,
		"Subject: " + mime.QEncoding.Encode("utf-8", m.Subject),
		"Date: " + time.Now().UTC().Format(time.RFC1123Z),
		"Message-ID: <" + hex.EncodeToString(id[:]) + "@" + domain + ">",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: 8bit",
	}
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	return []byte(strings.Join(h, "\r\n") + "\r\n\r\n" + body + "\r\n")
}
