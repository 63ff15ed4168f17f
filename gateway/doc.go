// Package gateway is the application behind `wxkit serve`: it reads the
// configuration (Config), wires stores, token sources and webhook servers
// for every configured Official Account and Mini Program, and serves the
// message endpoints (/wx/{appid}), health checks, the central token
// service, web login (OAuth), Mini Program login (/wxa/{appid}/login,
// profile and phone number, with bearer tokens), JS-SDK configuration,
// domain-verification files and the Open Platform components
// (/component/{appid}/...: tickets, authorization, the authorized
// accounts' messages); it syncs custom menus and delivers late replies
// through the customer-service API.
// The routes are listed on Gateway.
package gateway
