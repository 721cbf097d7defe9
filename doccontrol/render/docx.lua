-- Convert many documents to Word in one pandoc process.
--
-- Usage: pandoc lua docx.lua JOBS.json
--
-- JOBS.json is {body_format, batches = [{reference, out, docs = [{front, parts, tail, toc, breaks}]}]}.
-- pandoc's docx writer costs ~30 ms a call whatever the document's size, so each
-- batch of documents is written in one call: document N of the batch is wrapped in a
-- Div with the identifier dcx-N, whose bookmark docx_split.py cuts the batch at.
-- `front` and `tail` are the controlled-document furniture written as Markdown by docx.py,
-- `parts` the document's own Markdown files in reading order; they are read separately, so
-- nothing in a document can change how the furniture reads. With `breaks`, every part after
-- the first starts on a new page; with `toc`, the furniture's dc-toc placeholder becomes a
-- table of contents field listing the text's headings of levels 1 and 2. After each batch
-- is written, its position in the list is printed on a line of its own (progress for the caller).

local PAGE_BREAK = pandoc.RawBlock('openxml', '<w:p><w:r><w:br w:type="page"/></w:r></w:p>')

-- Column widths of a document's tables follow the content (the furniture's tables set their
-- own): a column's share grows with its longest cell (a CJK character counts twice), within
-- bounds; an empty cell asks for room to write in.
local MIN_WEIGHT, MAX_WEIGHT, EMPTY_WEIGHT = 4, 36, 14

local function display_width(text)
  local width = 0
  for _, code in utf8.codes(text) do
    width = width + ((code >= 0x2E80 and code <= 0xFFEF) and 2 or 1)
  end
  return width
end

local function cell_weight(cell)
  local text = pandoc.utils.stringify(cell.contents)
  if text:match('^%s*$') then return EMPTY_WEIGHT end
  return math.max(MIN_WEIGHT, math.min(MAX_WEIGHT, display_width(text) + 2))
end

local function rows_of(tbl)
  local rows = {}
  for _, row in ipairs(tbl.head.rows) do table.insert(rows, row) end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do table.insert(rows, row) end
  end
  return rows
end

local function widths_by_content(tbl)
  local weights = {}
  for i = 1, #tbl.colspecs do weights[i] = MIN_WEIGHT end
  for _, row in ipairs(rows_of(tbl)) do
    local column = 1
    for _, cell in ipairs(row.cells) do
      if cell.col_span == 1 and weights[column] then
        weights[column] = math.max(weights[column], cell_weight(cell))
      end
      column = column + cell.col_span
    end
  end
  local total = 0
  for _, weight in ipairs(weights) do total = total + weight end
  for i, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { spec[1], weights[i] / total }
  end
  return tbl
end

local embolden = { Plain = function(plain) return pandoc.Plain { pandoc.Strong(plain.content) } end }

local function bold_head(tbl)
  local empty = true
  for _, row in ipairs(tbl.head.rows) do
    for _, cell in ipairs(row.cells) do
      if pandoc.utils.stringify(cell.contents) ~= '' then empty = false end
      cell.contents = cell.contents:walk(embolden)
    end
  end
  if empty then tbl.head.rows = {} end  -- a furniture table written without a header row
  return tbl
end

local function plain_styles(element)
  element.attributes['custom-style'] = nil
  return element
end

-- Footnotes become numbered notes (注, under the job's `notes` heading) at the end of the document,
-- so that each document of a batch stays self-contained. An image whose approved picture docx.py
-- wrote (`pictures`: the image reference as written → that file) shows it; any other image shows
-- its description.
local function text_blocks(parts, format, breaks, pictures, notes_label)
  local notes = pandoc.List {}
  local blocks = pandoc.Blocks {}
  for index, text in ipairs(parts) do
    local doc = pandoc.read(text, format):walk {
      Note = function(note)
        notes:insert(note.content)
        return pandoc.Superscript { pandoc.Str(tostring(#notes)) }
      end,
      Image = function(image)
        local file = pictures[image.src]
        if not file then return image.caption end
        local handle = assert(io.open(file, 'rb'))
        local name = file:match('[^/]+$')
        pandoc.mediabag.insert(name, nil, handle:read('a'))
        handle:close()
        image.src = name
        image.title = ''
        return image
      end,
      Table = widths_by_content,
      Div = plain_styles,
      Span = plain_styles,
    }
    if breaks and index > 1 and #doc.blocks > 0 then blocks:insert(PAGE_BREAK) end
    blocks:extend(doc.blocks)
  end
  if #notes > 0 then
    blocks:insert(pandoc.Para { pandoc.Strong { pandoc.Str(notes_label) } })
    blocks:insert(pandoc.OrderedList(notes))
  end
  return blocks
end

local function xml_text(text)
  return (text:gsub('&', '&amp;'):gsub('<', '&lt;'):gsub('>', '&gt;'):gsub('"', '&quot;'))
end

-- Each heading of the two top levels the text uses gets a bookmark of its own (dc-h-N);
-- the table of contents (目录) lists them, each entry a link to its heading with a PAGEREF
-- field for its page. LibreOffice computes PAGEREF fields when it lays the pages out, and
-- Word updates them on opening (they are marked dirty). A TOC field around the entries would
-- make LibreOffice print its cached page numbers instead, so the entries stand on their own.
-- Returns the entries and the body with its headings renamed.
local function contents_field(body)
  local top = 9
  body:walk { Header = function(header) top = math.min(top, header.level) end }
  local entries, count = {}, 0
  body = body:walk {
    Header = function(header)
      if header.level <= top + 1 then
        count = count + 1
        header.identifier = 'dc-h-' .. count
        table.insert(entries, { header.level - top + 1, pandoc.utils.stringify(header.content), header.identifier })
      end
      return header
    end,
  }
  local paragraphs = {}
  for _, entry in ipairs(entries) do
    local level, text, anchor = entry[1], entry[2], entry[3]
    table.insert(paragraphs,
      '<w:p><w:pPr><w:pStyle w:val="toc' .. level .. '"/><w:tabs><w:tab w:val="right" w:leader="dot" w:pos="9350"/>' ..
      '</w:tabs></w:pPr><w:hyperlink w:anchor="' .. anchor .. '" w:history="1"><w:r><w:t xml:space="preserve">' ..
      xml_text(text) .. '</w:t></w:r><w:r><w:tab/></w:r><w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>' ..
      '<w:r><w:instrText xml:space="preserve"> PAGEREF ' .. anchor .. ' \\h </w:instrText></w:r>' ..
      '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>' ..
      '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:hyperlink></w:p>')
  end
  return pandoc.RawBlock('openxml', table.concat(paragraphs)), body
end

-- The front's dc-toc placeholder replaced by the table of contents of body; returns both.
local function with_contents(front, body)
  local field
  field, body = contents_field(body)
  front = front:walk {
    Div = function(div)
      if div.attributes['custom-style'] == 'dc-toc' then return field end
    end,
  }
  return front, body
end

local filter = { Table = bold_head }

local handle = assert(io.open(arg[1], 'rb'))
local jobs = pandoc.json.decode(handle:read('a'), false)
handle:close()

for position, batch in ipairs(jobs.batches) do
  local blocks = pandoc.Blocks {}
  for n, job in ipairs(batch.docs) do
    local body = text_blocks(job.parts, jobs.body_format, job.breaks, job.pictures or {}, job.notes)
    local front = pandoc.read(job.front, 'markdown').blocks
    if job.toc then front, body = with_contents(front, body) end
    local content = pandoc.Blocks {}
    content:extend(front)
    content:extend(body)
    if job.tail ~= '' then content:extend(pandoc.read(job.tail, 'markdown').blocks) end
    blocks:insert(pandoc.Div(content, pandoc.Attr('dcx-' .. n)))
  end
  local doc = pandoc.Pandoc(blocks):walk(filter)
  local out = assert(io.open(batch.out, 'wb'))
  out:write(pandoc.write(doc, 'docx', { reference_doc = batch.reference }))
  out:close()
  io.stdout:write(position, '\n')
  io.stdout:flush()
end
