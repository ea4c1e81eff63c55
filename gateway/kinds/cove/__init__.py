"""COVE (acuse de valor, VUCEM): ConsultarEdocument's full COVE, or a RecibirCove request + ConsultarRespuestaCove."""
