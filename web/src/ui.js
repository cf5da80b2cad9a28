// The page's controls: the canvas (painting + an overlay for cursors and drags), the brush, undo and
// redo, my name, the connection state, the People list and the model's accepted proposals. Plain DOM;
// text from the others goes in with textContent only.

// the studio's brush swatches (studio/panels/painting/brush.py PALETTE)
const PALETTE = ['#1d1d1d', '#ffffff', '#c0392b', '#e67e22', '#f1c40f', '#27ae60', '#2980b9', '#8e44ad', '#7f5539']
const DOTS = { off: '#888888', wait: '#e0a020', ok: '#27ae60', bad: '#c0392b' }

function el (tag, attrs = {}, ...kids) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v
    else if (k === 'class') e.className = v
    else e.setAttribute(k, v)
  }
  for (const k of kids) e.append(k)
  return e
}

function section (title, ...kids) {
  return el('section', {}, el('h2', { text: title }), ...kids)
}

export function buildUi (root, room) {
  root.textContent = ''
  const dot = el('span', { class: 'dot' })
  const stateText = el('span', { class: 'state-text', text: 'Connecting…' })
  const state = el('div', { class: 'state', id: 'state', role: 'status' }, dot, stateText)
  const header = el('header', {}, el('h1', {}, 'Neural Studio ', el('span', { class: 'room', text: `· ${room}` })), state)

  const canvas = el('canvas', { class: 'paint', id: 'paint', 'aria-label': 'the painting' })
  const overlay = el('canvas', { class: 'overlay', id: 'overlay' })
  const count = el('div', { class: 'count', id: 'count' })
  const paper = el('div', { class: 'paper', id: 'paper' }, canvas, overlay)
  const stage = el('div', { class: 'stage' }, paper, count)

  // brush
  const colour = el('input', { type: 'color', id: 'colour', value: '#c0392b', title: 'brush colour' })
  const swatches = el('div', { class: 'swatches' })
  for (const c of PALETTE) {
    const b = el('button', { class: 'swatch', title: c, 'aria-label': `colour ${c}` })
    b.style.background = c
    b.addEventListener('click', () => { colour.value = c; colour.dispatchEvent(new Event('input')) })
    swatches.append(b)
  }
  const size = el('input', { type: 'range', id: 'size', min: '2', max: '200', value: '30' })
  const sizeOut = el('output', { text: '0.030' })
  const opacity = el('input', { type: 'range', id: 'opacity', min: '5', max: '100', value: '100' })
  const opacityOut = el('output', { text: '100 %' })
  const brushBox = section('Brush',
    el('div', { class: 'row' }, el('label', { for: 'colour', text: 'Colour' }), colour),
    swatches,
    el('div', { class: 'row' }, el('label', { for: 'size', text: 'Size' }), size, sizeOut),
    el('div', { class: 'row' }, el('label', { for: 'opacity', text: 'Opacity' }), opacity, opacityOut))
  const undoB = el('button', { id: 'undo', title: 'undo my last stroke (Ctrl+Z)', text: 'Undo' })
  const redoB = el('button', { id: 'redo', title: 'redo (Ctrl+Shift+Z)', text: 'Redo' })
  const edit = el('div', { class: 'row buttons' }, undoB, redoB)
  const name = el('input', { type: 'text', id: 'name', maxlength: '40', spellcheck: 'false', title: 'your name, as the others see it' })
  const nameBox = section('You', el('div', { class: 'row' }, name), edit)
  const people = el('ul', { class: 'people', id: 'people' })
  const feed = el('ul', { class: 'feed', id: 'feed' })
  const feedHint = el('p', { class: 'hint', text: 'Proposals of the completion model accepted in the studio appear here as they arrive.' })
  const side = el('aside', {}, brushBox, nameBox, section('People', people), section('Model', feedHint, feed))
  root.append(header, el('div', { class: 'main' }, stage, side))

  const api = {
    canvas,
    overlay,
    paper,
    setState (kind, text, tip) {
      dot.style.background = DOTS[kind] || DOTS.off
      stateText.textContent = text
      state.title = tip || ''
      state.dataset.kind = kind
    },
    stateText: () => stateText.textContent,
    setPeople (list) {
      people.textContent = ''
      for (const p of list) {
        const sw = el('span', { class: 'swatch-small' })
        sw.style.background = p.colour
        people.append(el('li', {}, sw, el('span', { text: p.name })))
      }
    },
    peopleText: () => [...people.querySelectorAll('li')].map((li) => li.textContent),
    setCount (n) { count.textContent = `${n} stroke${n === 1 ? '' : 's'}` },
    modelAccepted (n) {
      feedHint.hidden = true
      const t = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
      feed.prepend(el('li', { text: `${t}  a proposal accepted: ${n} stroke${n === 1 ? '' : 's'}` }))
      while (feed.children.length > 8) feed.lastChild.remove()
    },
    setUndo (canUndo, canRedo) { undoB.disabled = !canUndo; redoB.disabled = !canRedo },
    setName (v) { name.value = v },
    onBrush (fn) {
      const send = () => {
        sizeOut.textContent = (size.value / 1000).toFixed(3)
        opacityOut.textContent = `${opacity.value} %`
        fn({ colour: colour.value, size: size.value / 1000, opacity: opacity.value / 100 })
      }
      for (const i of [colour, size, opacity]) i.addEventListener('input', send)
      send()
    },
    onUndo (fn) { undoB.addEventListener('click', fn) },
    onRedo (fn) { redoB.addEventListener('click', fn) },
    onName (fn) {
      name.addEventListener('change', () => {
        const ok = fn(name.value.trim())
        name.classList.toggle('bad', !ok)
      })
    }
  }
  return api
}
