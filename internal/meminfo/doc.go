// Package meminfo reads Linux's /proc/meminfo: the machine's memory for the
// pool's default budget (MemTotal), and what a load may take without
// swapping (MemAvailable) for the weights' reader.
//
// Who may import me: engine/pool and engine/safetensors.
package meminfo
