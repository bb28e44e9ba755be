package openai

import (
	"testing"
)

// TestImagesPlaced: images are decoded from data URLs and base64 sources and
// placed where they stand among the text parts of their message.
func TestImagesPlaced(t *testing.T) {
	c, err := chatFrom(t, `{"model":"a/b","messages":[{"role":"user","content":[
		{"type":"text","text":"ab"},
		{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},
		{"type":"text","text":"cd"},
		{"type":"image_url","image_url":"data:;base64,R0lGODlh"}]}]}`, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	m := c.Request.Messages[0]
	if m.Content != "abcd" || len(m.Images) != 2 || m.Images[0].At != 2 || m.Images[1].At != 4 ||
		string(m.Images[0].Data) != "\x89PNG\r\n\x1a\n" || string(m.Images[1].Data) != "GIF89a" {
		t.Fatalf("message %+v", m)
	}
	r, err := messagesFrom(t, `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":[
		{"type":"text","text":"look: "},
		{"type":"image","source":{"type":"base64","media_type":"image/gif","data":"R0lGODlh"}}]}]}`, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	am := r.Request.Messages[0]
	if am.Content != "look: " || len(am.Images) != 1 || am.Images[0].At != 6 || string(am.Images[0].Data) != "GIF89a" {
		t.Fatalf("anthropic message %+v", am)
	}
}
