from django.utils.html import format_html


def comment_html(comment):
    return format_html("<p class='comment'>{}</p>", comment.body)
