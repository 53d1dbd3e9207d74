// The PromQL expression editor: CodeMirror 6 with Prometheus' PromQL grammar for highlighting
// and its completion source, which asks this server's /api/v1 (labels, label values, series,
// metadata) for metric names, label names and values.

import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState, Prec } from '@codemirror/state';
import { drawSelection, EditorView, highlightSpecialChars, keymap, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';

// Colours come from CSS variables so the editor follows light/dark mode with the page.
const promqlHighlight = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--hl-keyword)' },
  { tag: tags.operatorKeyword, color: 'var(--hl-keyword)', fontWeight: '600' },
  { tag: tags.modifier, color: 'var(--hl-keyword)' },
  { tag: tags.logicOperator, color: 'var(--hl-op)', fontWeight: '600' },
  { tag: tags.operator, color: 'var(--hl-op)' },
  { tag: tags.arithmeticOperator, color: 'var(--hl-op)' },
  { tag: tags.function(tags.variableName), color: 'var(--hl-func)' },
  { tag: tags.labelName, color: 'var(--hl-label)' },
  { tag: tags.string, color: 'var(--hl-string)' },
  { tag: tags.number, color: 'var(--hl-number)' },
  { tag: tags.comment, color: 'var(--hl-comment)', fontStyle: 'italic' },
  { tag: tags.invalid, color: 'var(--err)', textDecoration: 'underline wavy' },
]);

const theme = EditorView.theme({
  '&': { backgroundColor: 'transparent', color: 'var(--fg)' },
  '.cm-content': { caretColor: 'var(--fg)' },
  '.cm-cursor': { borderLeftColor: 'var(--fg)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--info-bg)' },
  '.cm-matchingBracket': { backgroundColor: 'var(--info-bg)', outline: '1px solid var(--border-strong)' },
  '.cm-placeholder': { color: 'var(--muted)' },
});

// One completion source (and its metadata cache) shared by every panel of the page.
let promql: PromQLExtension | undefined;
function promqlExtension(): PromQLExtension {
  promql ??= new PromQLExtension()
    .activateLinter(false)
    .setComplete({
      remote: {
        url: '',
        // GET keeps the requests cacheable and works with any API implementation.
        httpMethod: 'GET',
        cache: { maxAge: 5 * 60 * 1000 },
      },
    });
  return promql;
}

export interface EditorHandlers {
  onChange: (expr: string) => void;
  onExecute: () => void;
}

export function createEditor(parent: HTMLElement, doc: string, handlers: EditorHandlers): EditorView {
  // Enter runs the query (as in Prometheus); Shift-Enter adds a line. The completion keymap
  // has higher precedence, so Enter still accepts a selected completion.
  const runKeys = Prec.high(
    keymap.of([
      { key: 'Enter', run: () => (handlers.onExecute(), true) },
      { key: 'Shift-Enter', run: insertNewlineAndIndent },
    ]),
  );
  return new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        highlightSpecialChars(),
        history(),
        drawSelection(),
        bracketMatching(),
        closeBrackets(),
        autocompletion({ activateOnTyping: true, maxRenderedOptions: 200 }),
        Prec.highest(keymap.of(completionKeymap)),
        runKeys,
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap]),
        placeholder('Expression (press Shift+Enter for newlines)'),
        EditorView.lineWrapping,
        syntaxHighlighting(promqlHighlight),
        theme,
        promqlExtension().asExtension(),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) handlers.onChange(u.state.doc.toString());
        }),
        EditorView.contentAttributes.of({ 'aria-label': 'PromQL expression' }),
      ],
    }),
  });
}
