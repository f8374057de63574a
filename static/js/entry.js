/* The "New detention" staff page (templates/staff/new_detention.html).

   The page works without this file: both incident parts are shown, "Add more …" buttons
   submit the form to get more rows, and a probable duplicate person is reported when saving.
   With it:
   - only the incident part chosen (existing or new) is shown;
   - "Add more …" adds a row in place, from the page's <template> of an empty row;
   - as a new person's name is typed, people already recorded with a similar name are
     fetched from the staff JSON endpoint (debounced) and listed, each with "Use this
     person", which links the row to that record instead of creating a new one.
   No inline script or style: the Content Security Policy forbids both. Everything that
   comes from the server is put in as text, never as HTML. */
(function () {
  "use strict";

  var form = document.getElementById("entry-form");
  if (!form) {
    return;
  }
  var candidatesUrl = form.dataset.candidatesUrl;
  var DEBOUNCE_MS = 300;
  var MIN_LETTERS = 3;

  // --- the incident: existing or new ------------------------------------------------------
  var modeInputs = form.querySelectorAll('input[name="incident-mode"]');

  function showIncidentMode() {
    var checked = form.querySelector('input[name="incident-mode"]:checked');
    var mode = checked ? checked.value : "new";
    form.querySelectorAll("[data-mode-part]").forEach(function (part) {
      part.hidden = part.dataset.modePart !== mode;
    });
  }
  modeInputs.forEach(function (input) {
    input.addEventListener("change", showIncidentMode);
  });
  showIncidentMode();

  // --- rows added in place ------------------------------------------------------------------
  function addRow(prefix) {
    var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var template = document.getElementById(prefix + "-empty-row");
    var rows = form.querySelector('[data-rows="' + prefix + '"]');
    if (!total || !template || !rows) {
      return false;
    }
    var index = parseInt(total.value, 10) || 0;
    // The template is the page's own markup (Django's empty form), not user input.
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.firstElementChild;
    var number = row.querySelector("[data-row-number]");
    if (number) {
      number.textContent = String(index + 1);
    }
    rows.appendChild(row);
    total.value = String(index + 1);
    if (row.hasAttribute("data-person-row")) {
      setUpPersonRow(row);
    }
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) {
      first.focus();
    }
    return true;
  }

  form.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (addRow(button.dataset.addRow)) {
        event.preventDefault();
      }
    });
  });

  // --- people found as a name is typed ------------------------------------------------------
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function describe(candidate) {
    var facts = [];
    facts.push(candidate.citizenship_name || form.dataset.noCitizenship || "—");
    if (candidate.birth_year) {
      facts.push(String(candidate.birth_year));
    }
    if (candidate.occupation) {
      facts.push(candidate.occupation);
    }
    var alike = form.dataset.alikeLabel || "name alike:";
    facts.push(alike + " " + Math.round(candidate.name_score * 100) + "%");
    return facts.join(" · ");
  }

  function setUpPersonRow(row) {
    var prefix = row.id;
    function field(name) {
      return row.querySelector('[name="' + prefix + "-" + name + '"]');
    }
    var existing = field("existing_person");
    var nameInput = field("name");
    var nativeInput = field("name_native");
    var citizenship = field("citizenship");
    var birthYear = field("birth_year");
    var box = row.querySelector("[data-candidates]");
    var different = row.querySelector("[data-different]");
    var newPerson = row.querySelector("[data-new-person]");
    var linked = row.querySelector("[data-linked]");
    var linkedText = row.querySelector("[data-linked-text]");
    var unlink = row.querySelector("[data-unlink]");
    var labels = box ? box.dataset : {};
    if (!existing || !nameInput || !box) {
      return;
    }
    var timer = null;
    var pending = null;
    var lastQuery = "";

    function newPersonInputs() {
      return newPerson.querySelectorAll("input, select, textarea");
    }

    function link(candidate) {
      existing.value = candidate.slug;
      linkedText.textContent = (labels.linkedLabel || "Linked:") + " " + candidate.name;
      linked.hidden = false;
      // Disabled inputs are not submitted: the row then only links the person.
      newPersonInputs().forEach(function (input) {
        input.disabled = true;
      });
      newPerson.hidden = true;
      box.textContent = "";
      unlink.focus();
    }

    function unlinkPerson() {
      existing.value = "";
      linked.hidden = true;
      newPersonInputs().forEach(function (input) {
        input.disabled = false;
      });
      newPerson.hidden = false;
      nameInput.focus();
    }
    unlink.addEventListener("click", unlinkPerson);
    // Clearing the linked slug by hand also brings the new-person fields back.
    existing.addEventListener("input", function () {
      if (!existing.value.trim() && !linked.hidden) {
        unlinkPerson();
      }
    });

    function render(candidates) {
      box.textContent = "";
      if (!candidates.length) {
        return;
      }
      box.appendChild(element("p", "entry-live-heading", labels.heading || "Already recorded:"));
      var list = element("ul", "entry-candidate-list");
      candidates.forEach(function (candidate) {
        var item = element("li", "entry-candidate");
        var use = element("button", "entry-use-button", labels.useLabel || "Use this person");
        use.type = "button";
        use.addEventListener("click", function () {
          link(candidate);
        });
        item.appendChild(use);
        var name = element("a", "entry-candidate-name", candidate.name);
        name.href = candidate.url;
        name.target = "_blank";
        name.rel = "noopener";
        item.appendChild(name);
        if (candidate.name_native) {
          item.appendChild(element("span", "native-name", candidate.name_native));
        }
        if (candidate.identity_withheld) {
          item.appendChild(element("span", "badge badge-withheld", labels.withheldLabel || "withheld"));
        }
        if (candidate.publication_state !== "published") {
          item.appendChild(element("span", "badge badge-draft", candidate.publication_state_label));
        }
        item.appendChild(element("span", "entry-candidate-facts", describe(candidate)));
        if (candidate.detentions.length) {
          var detentions = element("ul", "entry-candidate-detentions");
          candidate.detentions.forEach(function (detention) {
            var line = element("li");
            var incident = element("a", "", detention.incident);
            incident.href = detention.incident_url;
            incident.target = "_blank";
            incident.rel = "noopener";
            line.appendChild(incident);
            if (detention.detained) {
              line.appendChild(document.createTextNode(" · " + detention.detained));
            }
            detentions.appendChild(line);
          });
          item.appendChild(detentions);
        }
        list.appendChild(item);
      });
      box.appendChild(list);
      if (different) {
        different.hidden = false;
      }
    }

    function lookUp(query) {
      var letters = query.replace(/[^\p{L}]/gu, "");
      if (letters.length < MIN_LETTERS) {
        box.textContent = "";
        return;
      }
      var params = new URLSearchParams({ name: query });
      if (citizenship && citizenship.value) {
        params.set("citizenship", citizenship.value);
      }
      if (birthYear && birthYear.value) {
        params.set("birth_year", birthYear.value);
      }
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      fetch(candidatesUrl + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: pending.signal,
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          render(data.candidates);
        })
        .catch(function (error) {
          // An aborted request was replaced by a newer one; anything else just shows no
          // list: the check on saving still warns of a duplicate.
          if (error.name !== "AbortError") {
            box.textContent = "";
          }
        });
    }

    function onType(event) {
      var query = event.target.value.trim();
      if (query === lastQuery) {
        return;
      }
      lastQuery = query;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        lookUp(query);
      }, DEBOUNCE_MS);
    }
    nameInput.addEventListener("input", onType);
    if (nativeInput) {
      nativeInput.addEventListener("input", onType);
    }
  }

  form.querySelectorAll("[data-person-row]").forEach(setUpPersonRow);
})();
