"""The API's JSON parser: DRF's, with the limits of ``ranking_app.safe_json`` (depth, storable text)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .. import safe_json


class SafeJSONParser(JSONParser):
    """A body nested deeper than ``safe_json.MAX_DEPTH`` or holding a lone surrogate or a control
    character is a 400 naming where, before any view sees it."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {safe_json.MAX_DEPTH} levels") from None
        reason = safe_json.problem(data)
        if reason:
            raise ParseError(f"JSON body: {reason}")
        return data
