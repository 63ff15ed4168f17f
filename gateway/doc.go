// Package gateway is the application behind `wxkit serve`: it reads the
// configuration (Config), wires stores, token sources and webhook servers
// for every configured Official Account, and serves the message endpoints
// (/wx/{appid}), health checks and the central token service.
package gateway
