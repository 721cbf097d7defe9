-- doccontrol import: a Word document's AST made portable before it is written as Markdown.
-- Table cells become one line each (paragraphs and line breaks joined by a separator, merged
-- cells split into empty ones) so that every table is a pipe table; underline becomes emphasis;
-- superscript and subscript become plain text; picture sizes are dropped. What was changed is
-- counted in the metadata field `doccontrol-notes`.

local notes = {}
local function note(what) notes[what] = (notes[what] or 0) + 1 end

local function has_cjk(s)
  return s:find("[\228-\233][\128-\191][\128-\191]") ~= nil
end

local function flatten_cell(blocks)
  local text = pandoc.utils.stringify(blocks)
  local sep = has_cjk(text) and "；" or "; "
  local out = pandoc.Inlines{}
  local first = true
  local joined = false
  local function add_sep()
    if not first then out:insert(pandoc.Str(sep)); joined = true end
    first = false
  end
  local function walk(bs)
    for _, b in ipairs(bs) do
      if b.t == "Para" or b.t == "Plain" or b.t == "Header" then
        add_sep()
        for _, il in ipairs(b.content) do
          if il.t == "LineBreak" then out:insert(pandoc.Str(sep)); joined = true
          elseif il.t == "SoftBreak" then out:insert(pandoc.Space())
          else out:insert(il) end
        end
      elseif b.t == "BulletList" or b.t == "OrderedList" then
        for _, item in ipairs(b.content) do walk(item) end
      elseif b.t == "LineBlock" then
        for _, l in ipairs(b.content) do add_sep(); out:extend(l) end
      elseif b.t == "Div" or b.t == "BlockQuote" then
        walk(b.content)
      else
        add_sep(); out:insert(pandoc.Str(pandoc.utils.stringify(b)))
      end
    end
  end
  walk(blocks)
  if joined then note("table cells with several paragraphs or line breaks joined into one line") end
  return out
end

local function expand_rows(rows, ncols)
  local pending = {}
  for _, row in ipairs(rows) do
    local cells = {}
    local source = row.cells
    local next_source = 1
    local col = 1
    while col <= ncols do
      if pending[col] and pending[col] > 0 then
        pending[col] = pending[col] - 1
        table.insert(cells, pandoc.Cell({}))
        col = col + 1
      elseif next_source <= #source then
        local cell = source[next_source]
        next_source = next_source + 1
        local cs, rs = cell.col_span, cell.row_span
        if cs > 1 or rs > 1 then note("merged table cells split (the merged text stays in the first cell)") end
        cell.col_span = 1
        cell.row_span = 1
        table.insert(cells, cell)
        if rs > 1 then pending[col] = rs - 1 end
        for k = 2, cs do
          table.insert(cells, pandoc.Cell({}))
          if rs > 1 then pending[col + k - 1] = rs - 1 end
        end
        col = col + cs
      else
        table.insert(cells, pandoc.Cell({}))
        col = col + 1
      end
    end
    row.cells = cells
  end
end

local function flatten_rows(rows)
  for _, row in ipairs(rows) do
    for _, cell in ipairs(row.cells) do
      cell.contents = pandoc.Blocks{pandoc.Plain(flatten_cell(cell.contents))}
    end
  end
end

function Table(tbl)
  local ncols = #tbl.colspecs
  local sections = {tbl.head.rows, tbl.foot.rows}
  for _, body in ipairs(tbl.bodies) do
    table.insert(sections, body.head)
    table.insert(sections, body.body)
  end
  for _, rows in ipairs(sections) do
    expand_rows(rows, ncols)
    flatten_rows(rows)
  end
  for i, spec in ipairs(tbl.colspecs) do tbl.colspecs[i] = {spec[1], nil} end
  if #tbl.head.rows == 0 then
    local body = tbl.bodies[1]
    if body and #body.body > 0 then
      tbl.head.rows = {table.remove(body.body, 1)}
      note("tables without a header row: the first row taken as the header")
    end
  end
  return tbl
end

function Underline(el)
  note("underlined text written as emphasis")
  return pandoc.Emph(el.content)
end

function Superscript(el)
  note("superscript and subscript written as plain text")
  return el.content
end

function Subscript(el)
  note("superscript and subscript written as plain text")
  return el.content
end

function SmallCaps(el) return el.content end

function Image(img)
  img.attr = pandoc.Attr()
  return img
end

function Pandoc(doc)
  local list = {}
  for what, count in pairs(notes) do table.insert(list, pandoc.MetaString(what .. "\t" .. count)) end
  doc.meta["doccontrol-notes"] = pandoc.MetaList(list)
  return doc
end
