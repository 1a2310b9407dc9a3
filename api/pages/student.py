"""A student's pages: their course (assignments with due dates, attempts left and best scores) and
an assignment (statements, one input per answer key, how each answer is read, submit, results)."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
