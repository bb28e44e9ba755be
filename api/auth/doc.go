// Package auth holds the credentials machinery of the API, free of HTTP framework and
// storage: Argon2id password hashes in PHC format, HS256 session tokens, the JWT
// secret's loading and checks, API key generation and hashing, reading a bearer token
// from a request, the failure rate limiter, and the sign-in throttle ("smart lockout",
// lockout.go) with the signed device cookie that names a client, and the /v1 quotas
// per user and API key (quota.go). api/authmw.go joins these to
// the store and to echo.
//
// Who may import me: api, and app for the daemon's JWT secret.
// I import nothing of this project.
package auth
