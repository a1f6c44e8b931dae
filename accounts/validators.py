from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassesValidator:
    """The utilities' password rule: at least one upper-case letter, one lower-case letter and one digit."""

    def validate(self, password: str, user=None) -> None:
        if not (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            raise ValidationError(
                _("The password must contain at least one upper-case letter, one lower-case letter and one digit."),
                code="password_character_classes",
            )

    def get_help_text(self) -> str:
        return _("Your password must contain at least one upper-case letter, one lower-case letter and one digit.")
