"""Tasks: what differs between entity tagging, token tagging and document classification."""

from seqtag.tasks.base import Task
from seqtag.tasks.classification import DocumentClassification
from seqtag.tasks.results import Document, Entity, Sentence
from seqtag.tasks.tagging import EntityTagging, TokenTagging

__all__ = ["Document", "DocumentClassification", "Entity", "EntityTagging", "Sentence", "Task",
           "TokenTagging"]
