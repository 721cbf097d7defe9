-- Convert many documents to Word in one pandoc process.
--
-- Usage: pandoc lua docx.lua JOBS.json
--
-- JOBS.json is {body_format, batches = [{reference, out, docs = [{front, body}]}]}.
-- pandoc's docx writer costs ~30 ms a call whatever the document's size, so each
-- batch of documents is written in one call: document N of the batch is wrapped in a
-- Div with the identifier dcx-N, whose bookmark docx_split.py cuts the batch at.
-- `front` is the controlled-document furniture written as Markdown by docx.py and
-- `body` the document's own Markdown; they are read separately, so nothing in a body
-- can change how the furniture reads. After each batch is written, its position in
-- the list is printed on a line of its own (progress for the caller).

-- A table without explicit widths spans the text width in equal columns.
local function full_width(tbl)
  for _, spec in ipairs(tbl.colspecs) do
    if spec[2] ~= nil then return tbl end
  end
  for i, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { spec[1], 1 / #tbl.colspecs }
  end
  return tbl
end

local embolden = { Plain = function(plain) return pandoc.Plain { pandoc.Strong(plain.content) } end }

local function bold_head(tbl)
  for _, row in ipairs(tbl.head.rows) do
    for _, cell in ipairs(row.cells) do
      cell.contents = cell.contents:walk(embolden)
    end
  end
  return tbl
end

local function plain_styles(element)
  element.attributes['custom-style'] = nil
  return element
end

-- Footnotes become numbered notes (注) at the end of the document, so that each
-- document of a batch stays self-contained. Images are not in the released text:
-- their description is kept.
local function body_blocks(text, format)
  local notes = pandoc.List {}
  local doc = pandoc.read(text, format):walk {
    Note = function(note)
      notes:insert(note.content)
      return pandoc.Superscript { pandoc.Str(tostring(#notes)) }
    end,
    Image = function(image) return image.caption end,
    Div = plain_styles,
    Span = plain_styles,
  }
  if #notes > 0 then
    doc.blocks:insert(pandoc.Para { pandoc.Strong { pandoc.Str('注') } })
    doc.blocks:insert(pandoc.OrderedList(notes))
  end
  return doc.blocks
end

local filter = { Table = function(tbl) return bold_head(full_width(tbl)) end }

local handle = assert(io.open(arg[1], 'rb'))
local jobs = pandoc.json.decode(handle:read('a'), false)
handle:close()

for position, batch in ipairs(jobs.batches) do
  local blocks = pandoc.Blocks {}
  for n, job in ipairs(batch.docs) do
    local content = pandoc.read(job.front, 'markdown').blocks
    content:extend(body_blocks(job.body, jobs.body_format))
    blocks:insert(pandoc.Div(content, pandoc.Attr('dcx-' .. n)))
  end
  local doc = pandoc.Pandoc(blocks):walk(filter)
  local out = assert(io.open(batch.out, 'wb'))
  out:write(pandoc.write(doc, 'docx', { reference_doc = batch.reference }))
  out:close()
  io.stdout:write(position, '\n')
  io.stdout:flush()
end
