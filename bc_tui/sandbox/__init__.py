"""The emulated services: Business Central API v2.0, Dataverse Web API v9.2 and the token endpoint.

This package is the *other side of the wire*: it shares no code with the client layers."""
