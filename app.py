"""Hybrid Care Orchestrator: the Chalice app. Routes live in chalicelib/api; nothing else happens here."""

from chalice import Chalice

from chalicelib.api.appointments import appointments
from chalicelib.api.directory import directory
from chalicelib.api.health import health
from chalicelib.api.video import video

app = Chalice(app_name="hybrid-care-orchestrator")
app.register_blueprint(health)
app.register_blueprint(directory)
app.register_blueprint(appointments)
app.register_blueprint(video)
