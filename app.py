"""WSGI entry point: `flask --app app ...`, `gunicorn app:app`, `python app.py`."""

from registry import create_app

app = create_app()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000)
