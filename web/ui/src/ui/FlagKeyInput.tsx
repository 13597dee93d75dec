// File: ui/FlagKeyInput.tsx
//
// A text box for a flag name with typeahead from the flag schemas: each
// suggestion shows its type (marked when only inferred), default and
// description (and values seen on other experiments). ARIA combobox: arrows move, Enter or Tab takes the
// highlighted suggestion, Escape closes the list.

import { useState } from "preact/hooks";
import type { FlagSuggestion } from "../logic/flagDraft";
import { matchSuggestions } from "../logic/flagDraft";
import { formatFlagValue, stateLabel } from "../logic/format";

interface Props {
  id: string;
  value: string;
  onInput: (text: string) => void;
  /** A suggestion was taken (the caller moves focus to the value). */
  onPick: (s: FlagSuggestion) => void;
  suggestions: FlagSuggestion[];
  exclude: Set<string>;
  invalid?: boolean;
}

export function FlagKeyInput(p: Props) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const matches = open ? matchSuggestions(p.suggestions, p.value, p.exclude) : [];
  const listId = `${p.id}-list`;
  const pick = (s: FlagSuggestion) => {
    p.onInput(s.schema.name ?? "");
    setOpen(false);
    p.onPick(s);
  };
  const onKeyDown = (ev: KeyboardEvent) => {
    if (ev.key === "ArrowDown") {
      ev.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, Math.max(0, matches.length - 1)));
    } else if (ev.key === "ArrowUp") {
      ev.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if ((ev.key === "Enter" || ev.key === "Tab") && open && matches[active]) {
      if (matches[active].schema.name === p.value && ev.key === "Tab") return setOpen(false);
      ev.preventDefault();
      pick(matches[active]);
    } else if (ev.key === "Escape" && open) {
      ev.stopPropagation();
      setOpen(false);
    }
  };
  return (
    <div class="combo">
      <input
        id={p.id}
        type="text"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={open && matches.length > 0}
        aria-controls={listId}
        aria-activedescendant={open && matches[active] ? `${listId}-${active}` : undefined}
        aria-invalid={p.invalid}
        autocomplete="off"
        spellcheck={false}
        placeholder="flag name, e.g. trainer.lr"
        value={p.value}
        onInput={(ev) => {
          p.onInput(ev.currentTarget.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={onKeyDown}
        data-testid="flag-key-input"
      />
      {open && matches.length > 0 && (
        <ul class="combo-list" role="listbox" id={listId} aria-label="Known flags">
          {matches.map((s, i) => (
            <li
              key={s.schema.name}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onMouseDown={(ev) => {
                ev.preventDefault();
                pick(s);
              }}
              data-flag={s.schema.name}
            >
              <span class="opt-name mono">{s.schema.name}</span>
              <span class="opt-type" title={s.inferred ? "inferred from the flags experiments use; not checked" : "declared in the flag schema"}>
                {stateLabel(s.schema.type) || "any"}
                {s.inferred ? " · inferred" : ""}
              </span>
              {s.schema.default_value && <span class="opt-default">default {formatFlagValue(s.schema.default_value)}</span>}
              {!s.schema.default_value && s.schema.seen_values?.length ? (
                <span class="opt-default">
                  seen {s.schema.seen_values.slice(0, 3).map(formatFlagValue).join(", ")}
                </span>
              ) : null}
              {s.schema.description && <span class="opt-desc">{s.schema.description}</span>}
              {!s.sameCommand && <span class="opt-desc muted">used by: {s.command}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
