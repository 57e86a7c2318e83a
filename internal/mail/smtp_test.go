package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeRelay is a minimal SMTP server on loopback that records one message.
func fakeRelay(t *testing.T) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		say := func(s string) { c.Write([]byte(s + "\r\n")) }
		say("220 relay.test ESMTP")
		var data strings.Builder
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if inData {
				if line == ".\r\n" {
					inData = false
					got <- data.String()
					say("250 queued")
					continue
				}
				data.WriteString(line)
				continue
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 relay.test")
			case strings.HasPrefix(cmd, "MAIL FROM"), strings.HasPrefix(cmd, "RCPT TO"):
				data.WriteString(strings.TrimSpace(line) + "\n")
				say("250 ok")
			case cmd == "DATA":
				inData = true
				say("354 go ahead")
			case cmd == "QUIT":
				say("221 bye")
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), got
}

func TestSMTPSendsOnePlainTextMessage(t *testing.T) {
	addr, got := fakeRelay(t)
	s := &SMTP{Addr: addr, From: "Roster <roster@acme.example>"}
	err := s.Send(context.Background(), Message{To: "new@acme.example", Subject: "Join Acme on Roster", Body: "Open this link:\nhttps://roster.example/password/rlink_x\n"})
	if err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"RCPT TO:<new@acme.example>", "Subject: Join Acme on Roster", "To: new@acme.example",
		"Content-Type: text/plain; charset=utf-8", "https://roster.example/password/rlink_x\r\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
}

func TestSMTPRefusesHeaderInjectionAndBadRecipients(t *testing.T) {
	s := &SMTP{Addr: "127.0.0.1:1", From: "roster@acme.example"}
	for _, m := range []Message{
		{To: "new@acme.example\r\nBcc: all@acme.example", Subject: "x"},
		{To: "new@acme.example", Subject: "x\r\nBcc: all@acme.example"},
		{To: "not an address", Subject: "x"},
	} {
		if err := s.Send(context.Background(), m); err == nil || strings.Contains(err.Error(), "connect") {
			t.Errorf("Send(%q, %q) = %v; want a refusal before any connection", m.To, m.Subject, err)
		}
	}
}
