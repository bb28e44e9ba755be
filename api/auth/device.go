package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// DeviceCookie is the name of the cookie that marks a client which signed in to an
// account before; Throttle lets such a client in while strangers are held back.
const DeviceCookie = "mlxm_device"

// Device returns a new device cookie value for userID: a random id and an HMAC of
// (user, id) under the session secret, so it cannot be forged or moved to another
// account. It grants nothing by itself: it only names the client for throttling.
func (t *Tokens) Device(userID string) string {
	var id [16]byte
	rand.Read(id[:])
	s := base64.RawURLEncoding.EncodeToString(id[:])
	return s + "." + t.deviceMAC(userID, s)
}

// VerifyDevice returns the device id of value if it is a device cookie of userID.
func (t *Tokens) VerifyDevice(userID, value string) (string, bool) {
	id, mac, ok := strings.Cut(value, ".")
	if !ok || id == "" || !hmac.Equal([]byte(mac), []byte(t.deviceMAC(userID, id))) {
		return "", false
	}
	return id, true
}

func (t *Tokens) deviceMAC(userID, id string) string {
	h := hmac.New(sha256.New, t.secret)
	h.Write([]byte("mlx-manager device\x00" + userID + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
