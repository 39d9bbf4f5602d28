module ndpresponder

go 1.24.0

require (
	golang.org/x/net v0.50.0
	golang.org/x/sys v0.41.0
)
