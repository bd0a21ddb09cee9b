"""Request bodies. Every model rejects unknown fields, so a typo is a 422 naming the field."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag

LOC_TAGS = frozenset({"<string>", "<strings>", "<parts>", "<text>", "<image_url>"})
"""Union tags pydantic puts in error locations; error messages leave them out."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassifyRequest(_Body):
    """``POST /v1/classify``: one of ``texts`` / ``text``, at most one of ``policy`` /
    ``policy_text``.

    Attributes:
        texts: the texts to classify, one verdict each.
        text: a single text (shorthand for ``texts: [text]``).
        policy: a built-in policy id; the server's default policy when omitted.
        policy_text: a whole policy document (Markdown with YAML front matter) to classify
            against instead of a built-in one.
    """

    texts: list[str] | None = None
    text: str | None = None
    policy: str | None = None
    policy_text: str | None = None


class TextPart(_Body):
    """A text part of an OpenAI multi-modal moderation input."""

    type: Literal["text"]
    text: str


class ImageURL(_Body):
    """The image reference of an ``image_url`` part."""

    url: str


class ImagePart(_Body):
    """An image part of an OpenAI multi-modal moderation input (not supported: rejected)."""

    type: Literal["image_url"]
    image_url: ImageURL


def _part_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else None
    return f"<{kind}>" if kind in ("text", "image_url") else None


def _input_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "<string>"
    if isinstance(value, list):
        return "<strings>" if all(isinstance(item, str) for item in value) else "<parts>"
    return None


ContentPart = Annotated[
    Annotated[TextPart, Tag("<text>")] | Annotated[ImagePart, Tag("<image_url>")],
    Discriminator(_part_tag, custom_error_type="invalid_part",
                  custom_error_message="each content part needs 'type': 'text' or 'image_url'"),
]

ModerationInput = Annotated[
    Annotated[str, Tag("<string>")]
    | Annotated[list[str], Tag("<strings>")]
    | Annotated[list[ContentPart], Tag("<parts>")],
    Discriminator(_input_tag, custom_error_type="invalid_input",
                  custom_error_message="must be a string, a list of strings, or a list "
                  "of content parts ({'type': 'text', 'text': ...})"),
]


class ModerationRequest(_Body):
    """``POST /v1/moderations``, exactly as OpenAI's API takes it.

    Attributes:
        input: a string, a list of strings (one result each), or a list of content parts
            (one result for all of them together, as OpenAI does).
        model: a Bastion policy id, or an OpenAI moderation model name, which selects the
            server's default policy; omitted means the default policy.
    """

    input: ModerationInput
    model: str | None = None

    def texts(self) -> list[str] | None:
        """The texts to classify, or ``None`` when the input holds an image part.

        Content parts are joined with newlines into one text, so evidence spans of their
        verdict count characters in that joined text.
        """
        if isinstance(self.input, str):
            return [self.input]
        if all(isinstance(item, str) for item in self.input):
            return [item for item in self.input if isinstance(item, str)]
        parts = [item for item in self.input if isinstance(item, TextPart)]
        if len(parts) != len(self.input):
            return None
        return ["\n".join(part.text for part in parts)]
