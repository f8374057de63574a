// Staff edit forms: offer only the chosen speaker's posts in a statement's "post held" list.
// Without this script every post is listed with its holder's name, and saving someone
// else's post is refused with a message beside the field.
(function () {
  "use strict";
  var speaker = document.getElementById("id_speaker_person");
  var position = document.getElementById("id_position");
  if (!speaker || !position) {
    return;
  }
  function narrow() {
    var chosen = speaker.value;
    Array.prototype.forEach.call(position.options, function (option) {
      var holder = option.getAttribute("data-person");
      var offered = !holder || !chosen || holder === chosen;
      option.hidden = !offered;
      option.disabled = !offered;
      if (!offered && option.selected) {
        position.value = "";
      }
    });
  }
  speaker.addEventListener("change", narrow);
  narrow();
})();

// Conflict page: "Use theirs in the form" copies the value now stored into the form below,
// field by field, so a colleague's change can be kept while saving one's own.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-use-theirs]"), function (button) {
    var field = document.getElementById(button.getAttribute("data-use-theirs"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var value = JSON.parse(button.getAttribute("data-value"));
      if (field.type === "checkbox") {
        field.checked = Boolean(value);
      } else if (field.multiple) {
        Array.prototype.forEach.call(field.options, function (option) {
          option.selected = value.indexOf(option.value) !== -1;
        });
      } else {
        field.value = value;
      }
      field.dispatchEvent(new Event("change", { bubbles: true }));
      button.textContent = button.getAttribute("data-done");
      button.disabled = true;
    });
  });
})();

// New place: suggest the slug (the place's address) from the name as it is typed, until the
// slug is changed by hand. A name with no Latin letters leaves it empty: the server then
// makes it, transliterated (incidents.staff.forms.LocationForm). Without this script an
// empty slug is made from the name when the form is saved.
(function () {
  "use strict";
  var slug = document.querySelector("input[data-slug-from]");
  if (!slug) {
    return;
  }
  var name = document.getElementById(slug.getAttribute("data-slug-from"));
  if (!name) {
    return;
  }
  var maxLength = slug.maxLength > 6 ? slug.maxLength - 6 : 194;
  function slugify(text) {
    return text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .slice(0, maxLength)
      .replace(/^-+|-+$/g, "");
  }
  // The slug follows the name while it is empty or still the last suggestion.
  var suggested = slug.value === "" || slug.value === slugify(name.value) ? slug.value : null;
  function follow() {
    if (suggested === null || slug.value !== suggested) {
      suggested = null;
      return;
    }
    suggested = slugify(name.value);
    slug.value = suggested;
  }
  name.addEventListener("input", follow);
  // A name typed before this script ran (it is deferred) gets its slug now.
  follow();
})();
