package security

//go:generate go run gen_syscalls.go
