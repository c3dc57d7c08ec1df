"""Broken exec driver: exits 0 but prints junk instead of XML."""

from _exec import serve


def answer(request: str) -> str:
    return "Domain created successfully! (not XML)\n"


if __name__ == "__main__":
    serve(answer)
