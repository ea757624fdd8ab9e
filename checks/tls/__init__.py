"""The `tls` family: certificates and protocol versions of a company's web sites."""
