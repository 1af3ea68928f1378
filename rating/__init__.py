"""The rating tablet at a counter (/rate/<counter>)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rating", __name__, template_folder="templates", static_folder="static",
               static_url_path="/rating/static")
