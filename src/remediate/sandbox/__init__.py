"""The built-in sandbox: moto's server on loopback, with what moto lacks emulated."""
