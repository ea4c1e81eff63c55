"""The web page and JSON API of ``immex-gateway serve``: the rejected-document queue for operations staff."""
