"""Routes of the Open311 door (public reads; POST with a key), checked by tests/open311/test_permissions.py
and walked method by method by tests/open311/test_conformance.py."""

COVERED: set[str] = {
    r"open311/^discovery\.(?P<fmt>xml|json)$",
    r"open311/^v2/discovery\.(?P<fmt>xml|json)$",
    "open311/v2/",
    r"open311/^v2/services\.(?P<fmt>xml|json)$",
    r"open311/^v2/services/(?P<code>[^/]{1,64})\.(?P<fmt>xml|json)$",
    r"open311/^v2/requests\.(?P<fmt>xml|json)$",
    r"open311/^v2/requests/(?P<number>[^/]{1,64})\.(?P<fmt>xml|json)$",
    r"open311/^v2/tokens/(?P<token>[^/]{1,64})\.(?P<fmt>xml|json)$",
    r"open311/^v2/servicerequestupdates\.(?P<fmt>xml|json)$",
    "open311/^(?P<rest>(?s:.*))$",
}
