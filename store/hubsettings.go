package store

import (
	"errors"
	"fmt"
	"strings"
)

const (
	settingHub     = "hub"
	maxHubTokenLen = 512
)

// HubSettings is the "hub" settings document: offline mode and the Hugging Face
// token. The API never shows the token, only whether one is set.
type HubSettings struct {
	Offline bool   `json:"offline"`
	Token   string `json:"token,omitempty"`
}

// Validate checks the token's form (the Hub alone says whether it is valid);
// the error is a *SettingError naming the field.
func (h HubSettings) Validate() error {
	if len(h.Token) > maxHubTokenLen || strings.ContainsAny(h.Token, " \t\r\n") {
		return &SettingError{"token", "token must be a Hugging Face access token (hf_...)"}
	}
	return nil
}

// Hub reads the hub settings; never set gives the zero value.
func (st Settings) Hub() (HubSettings, error) {
	var set HubSettings
	if err := st.Get(settingHub, &set); err != nil && !errors.Is(err, ErrNotFound) {
		return HubSettings{}, fmt.Errorf("read hub settings: %w", err)
	}
	return set, nil
}

// PutHub validates and stores the hub settings.
func (st Settings) PutHub(set HubSettings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	if err := st.Put(settingHub, set); err != nil {
		return fmt.Errorf("store hub settings: %w", err)
	}
	return nil
}
