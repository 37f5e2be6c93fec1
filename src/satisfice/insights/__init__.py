"""Insights: what changed in the market, as dated findings grouped into articles (pipeline runs and backfill)."""

from satisfice.insights.backfill import backfill, history
from satisfice.insights.hook import pipeline_hook
from satisfice.insights.records import get_insight, list_insights, record

__all__ = ["backfill", "get_insight", "history", "list_insights", "pipeline_hook", "record"]
