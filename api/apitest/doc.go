// Package apitest starts the real API server on 127.0.0.1:0 with a temp store, a
// manual clock and cheap password hashing, and gives tests small HTTP helpers:
// register, log in, call JSON endpoints and read OpenAI-style errors.
//
// Who may import me: tests of api and app. I import api, api/auth, store and storetest.
package apitest
