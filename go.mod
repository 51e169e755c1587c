module github.com/parsecwire/parsecwire

go 1.24

require (
	github.com/google/gofuzz v1.2.0
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
)
