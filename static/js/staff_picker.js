/* Staff edit forms: the lists of linked records (sources, people, incidents) as pickers.

   Each <select multiple data-picker> (cabar_tracker/staff/forms.py, PickerSelectMultiple)
   becomes:
   - the chosen records as a list of chips, each with its own "remove" button: nothing is
     removed any other way (a plain click on a plain <select multiple> deselects every
     other option, and saving then silently dropped the links);
   - a search box: typing lists the records whose label holds every word typed (in any case,
     accents ignored; a person's label has the name in its own script too), and clicking one,
     or Enter on the one marked with the arrow keys, adds it.
   The select stays the form's input: it is hidden and its options' `selected` are kept in
   step, so the server reads the same values. Without this script it is the plain list.
   Everything shown is put in as text, never as HTML; no inline script or style (the
   Content Security Policy forbids both). */
(function () {
  "use strict";

  var MAX_RESULTS = 30;
  var pickerCount = 0;

  function fold(text) {
    return text
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/\s+/g, " ")
      .trim();
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function labelText(option) {
    return option.textContent.replace(/\s+/g, " ").trim();
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function setUp(select) {
    pickerCount += 1;
    var words = select.dataset;
    var baseId = select.id || "picker-" + pickerCount;
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    var fieldName = label ? label.textContent.replace(/[:\s]+$/, "").trim() : select.name;
    var options = Array.prototype.map.call(select.options, function (option) {
      return { option: option, label: labelText(option), key: fold(option.textContent) };
    });

    var picker = element("div", "picker");
    var chips = element("ul", "picker-chips");
    chips.setAttribute("aria-label", fill(words.pickerChosen || "{field}", { field: fieldName }));
    var none = element("p", "picker-none muted", words.pickerNone || "");

    var searchBox = element("div", "picker-search-box");
    var search = element("input", "picker-search");
    search.type = "text";
    search.id = baseId + "-search";
    search.autocomplete = "off";
    search.spellcheck = false;
    search.placeholder = words.pickerPlaceholder || "";
    search.setAttribute("role", "combobox");
    search.setAttribute("aria-autocomplete", "list");
    search.setAttribute("aria-expanded", "false");
    ["aria-describedby", "aria-invalid"].forEach(function (name) {
      if (select.hasAttribute(name)) {
        search.setAttribute(name, select.getAttribute(name));
      }
    });
    var results = element("ul", "picker-results");
    results.id = baseId + "-results";
    results.setAttribute("role", "listbox");
    results.hidden = true;
    search.setAttribute("aria-controls", results.id);
    var note = element("p", "picker-note muted");
    note.hidden = true;
    var status = element("p", "visually-hidden");
    status.setAttribute("role", "status");

    searchBox.appendChild(search);
    searchBox.appendChild(note); // above the results, which drop down over what follows
    searchBox.appendChild(results);
    picker.appendChild(chips);
    picker.appendChild(none);
    picker.appendChild(searchBox);
    picker.appendChild(status);
    select.parentNode.insertBefore(picker, select.nextSibling);
    select.hidden = true;
    select.classList.add("picker-source");
    if (label) {
      // The field's label now names the search box, the one control left to type in.
      label.htmlFor = search.id;
    }
    var help = document.getElementById(select.id + "_helptext");
    if (help && words.pickerHelp) {
      help.textContent = words.pickerHelp;
    }

    var shown = []; // the entries listed in the results, in order
    var active = -1; // index into `shown` of the result marked with the arrow keys

    function announce(text) {
      status.textContent = text;
    }

    function renderChips() {
      chips.textContent = "";
      options.forEach(function (entry) {
        if (!entry.option.selected) {
          return;
        }
        var chip = element("li", "picker-chip");
        chip.appendChild(element("span", "picker-chip-label", entry.label));
        var remove = element("button", "picker-remove");
        remove.type = "button";
        remove.setAttribute("aria-label", fill(words.pickerRemove || "{label}", entry));
        remove.title = remove.getAttribute("aria-label");
        var cross = element("span", "", "×");
        cross.setAttribute("aria-hidden", "true");
        remove.appendChild(cross);
        remove.addEventListener("click", function () {
          removeEntry(entry, chip);
        });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
      none.hidden = chips.children.length > 0;
      chips.hidden = chips.children.length === 0;
    }

    function changed() {
      // Other scripts (the conflict page's "Use theirs") listen to the select.
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function removeEntry(entry, chip) {
      var index = Array.prototype.indexOf.call(chips.children, chip);
      entry.option.selected = false;
      changed();
      announce(fill(words.pickerRemoved || "{label}", entry));
      // Keep the keyboard where it was: on the next chip's button (the previous one after
      // the last chip), else in the search box.
      var buttons = chips.querySelectorAll(".picker-remove");
      if (buttons.length) {
        buttons[Math.min(index, buttons.length - 1)].focus();
      } else {
        search.focus();
      }
    }

    function addEntry(entry) {
      entry.option.selected = true;
      changed();
      announce(fill(words.pickerAdded || "{label}", entry));
      search.value = "";
      closeResults();
      search.focus();
    }

    function mark(index) {
      var items = results.children;
      if (active >= 0 && items[active]) {
        items[active].setAttribute("aria-selected", "false");
      }
      active = index;
      if (active >= 0 && items[active]) {
        items[active].setAttribute("aria-selected", "true");
        items[active].scrollIntoView({ block: "nearest" });
        search.setAttribute("aria-activedescendant", items[active].id);
      } else {
        search.removeAttribute("aria-activedescendant");
      }
    }

    function closeResults() {
      results.hidden = true;
      results.textContent = "";
      note.hidden = true;
      shown = [];
      active = -1;
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
    }

    function openResults(showAll) {
      var terms = fold(search.value).split(" ").filter(Boolean);
      if (!terms.length && !showAll) {
        closeResults();
        return;
      }
      var matches = options.filter(function (entry) {
        return (
          entry.option.value !== "" &&
          !entry.option.selected &&
          !entry.option.disabled &&
          terms.every(function (term) {
            return entry.key.indexOf(term) !== -1;
          })
        );
      });
      shown = matches.slice(0, MAX_RESULTS);
      active = -1;
      results.textContent = "";
      shown.forEach(function (entry, index) {
        var item = element("li", "picker-result", entry.label);
        item.id = baseId + "-result-" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.addEventListener("click", function () {
          addEntry(entry);
        });
        results.appendChild(item);
      });
      results.hidden = shown.length === 0;
      search.setAttribute("aria-expanded", shown.length ? "true" : "false");
      search.removeAttribute("aria-activedescendant");
      if (!matches.length) {
        note.textContent = words.pickerNoMatch || "";
      } else if (matches.length > shown.length) {
        note.textContent = fill(words.pickerMore || "{count}", {
          count: matches.length - shown.length,
        });
      } else {
        note.textContent = "";
      }
      note.hidden = !note.textContent;
    }

    // Keep the focus in the search box, so the list does not close before a click on it.
    results.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    search.addEventListener("input", function () {
      openResults(false);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (results.hidden) {
          openResults(true);
        }
        if (!shown.length) {
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        mark((active + step + shown.length) % shown.length);
      } else if (event.key === "Enter") {
        // Enter in the search box adds the marked record; it never submits the form.
        event.preventDefault();
        if (active >= 0 && shown[active]) {
          addEntry(shown[active]);
        } else if (shown.length === 1) {
          addEntry(shown[0]);
        }
      } else if (event.key === "Escape" && !results.hidden) {
        event.preventDefault();
        closeResults();
      }
    });
    search.addEventListener("blur", closeResults);
    select.addEventListener("change", renderChips);
    renderChips();
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[multiple][data-picker]"), setUp);
})();
