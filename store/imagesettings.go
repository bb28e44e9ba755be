package store

import (
	"errors"
	"fmt"
)

const settingImages = "images"

// How far the server may go to fetch an image a chat request names by URL
// (ImageSettings.URLFetch).
const (
	ImageFetchOff    = "off"    // image URLs are refused: clients send the bytes (the default)
	ImageFetchPublic = "public" // public addresses only: loopback, private and link-local are refused
	ImageFetchAny    = "any"    // any address, this machine's and the LAN's too
)

// ImageSettings is the "images" settings document, admins' to change.
type ImageSettings struct {
	// URLFetch says whether http(s) image URLs in chat requests are fetched by
	// the server: off (""), public or any. Fetching lets a request make the
	// server connect somewhere, so it is off until an admin turns it on.
	URLFetch string `json:"image_url_fetch"`
}

// Fetch is URLFetch with the default spelled out.
func (s ImageSettings) Fetch() string {
	if s.URLFetch == "" {
		return ImageFetchOff
	}
	return s.URLFetch
}

// Validate checks the mode; the error is a *SettingError naming the field.
func (s ImageSettings) Validate() error {
	switch s.URLFetch {
	case "", ImageFetchOff, ImageFetchPublic, ImageFetchAny:
		return nil
	}
	return &SettingError{"image_url_fetch", fmt.Sprintf("image_url_fetch must be %q, %q or %q, not %q", ImageFetchOff, ImageFetchPublic, ImageFetchAny, s.URLFetch)}
}

// Images reads the image settings; never set gives the zero value (off).
func (st Settings) Images() (ImageSettings, error) {
	var set ImageSettings
	if err := st.Get(settingImages, &set); err != nil && !errors.Is(err, ErrNotFound) {
		return ImageSettings{}, fmt.Errorf("read image settings: %w", err)
	}
	return set, nil
}

// PutImages validates and stores the image settings.
func (st Settings) PutImages(set ImageSettings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	if err := st.Put(settingImages, set); err != nil {
		return fmt.Errorf("store image settings: %w", err)
	}
	return nil
}
