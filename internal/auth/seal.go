package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
)

// MinServerKeyLength is the shortest server key accepted (MSPAUTHZ_SERVER_KEY).
const MinServerKeyLength = 32

// GenerateServerKey returns a fresh random server key.
func GenerateServerKey() string { return randomText(32) }

// Sealer seals secrets that the server must read again — an identity
// provider's client secret, a sign-in's pending state — with a key derived
// from the server key for one purpose (HKDF-SHA256), as AES-256-GCM bound
// to a context (what the secret belongs to): a sealed value moved elsewhere,
// tampered with or sealed with another key does not open. A hash, as for
// tokens, would not do: these secrets are used, not compared.
type Sealer struct {
	aead  cipher.AEAD
	keyID string
}

// NewSealer returns the sealer of purpose under serverKey. Errors: Invalid
// for a key shorter than MinServerKeyLength.
func NewSealer(serverKey, purpose string) (*Sealer, error) {
	if len(serverKey) < MinServerKeyLength {
		return nil, fault.New(fault.Invalid, "the server key must be at least %d characters", MinServerKeyLength)
	}
	key, err := hkdf.Key(sha256.New, []byte(serverKey), nil, "mspauthz "+purpose, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(key)
	return &Sealer{aead: aead, keyID: hex.EncodeToString(id[:4])}, nil
}

// sealedPrefix starts every sealed value: a version, then the key's id.
const sealedPrefix = "v1."

// Seal seals plaintext for context.
func (s *Sealer) Seal(plaintext, context string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return sealedPrefix + s.keyID + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open opens what Seal sealed for the same context. Errors: Internal for a
// value sealed with another key, for another context, or tampered with.
func (s *Sealer) Open(sealed, context string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	keyID, body, _ := strings.Cut(rest, ".")
	if !ok || keyID != s.keyID {
		return "", fault.New(fault.Internal, "sealed with another server key")
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err == nil && len(raw) < s.aead.NonceSize() {
		err = errors.New("too short")
	}
	var plain []byte
	if err == nil {
		plain, err = s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(context))
	}
	if err != nil {
		return "", fault.Wrap(fmt.Errorf("open sealed value: %w", err), fault.Internal, "a sealed value does not open: tampered with, or sealed for something else")
	}
	return string(plain), nil
}
