module github.com/parsecwire/parsecwire

go 1.25.0

require (
	github.com/google/gofuzz v1.2.0
	github.com/gopacket/gopacket v1.7.7
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
)

require (
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
