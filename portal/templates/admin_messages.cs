<?cs # admin_messages.cs - the lab's messages, searchable by reference,
     recipient and date range, paged. Every var: is HTML-escaped; values in
     URLs go through url_escape as well. ?><nav class="admin-nav" aria-label="Admin"><a href="/admin/messages">Messages</a> <a href="/admin/recipients">Recipients</a> <a href="/admin/audit.csv">Audit export (CSV)</a>
<form class="inline" method="post" action="/admin/logout"><input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>"><span class="who"><?cs var:Admin.Login ?> (<?cs var:Admin.Role ?>)</span> <button type="submit">Log out</button></form></nav>
<div class="admin">
<h1>Messages</h1>
<?cs if:Page.Error ?><div class="error" role="alert"><?cs var:Page.Error ?></div>
<?cs /if ?><form class="search" method="get" action="/admin/messages">
<label for="reference">Reference</label> <input id="reference" name="reference" type="text" maxlength="200" value="<?cs var:Filter.Reference ?>">
<label for="recipient">Recipient</label> <input id="recipient" name="recipient" type="text" maxlength="320" value="<?cs var:Filter.Recipient ?>">
<label for="from">From (YYYY-MM-DD)</label> <input id="from" name="from" type="text" maxlength="10" value="<?cs var:Filter.From ?>">
<label for="to">To (YYYY-MM-DD)</label> <input id="to" name="to" type="text" maxlength="10" value="<?cs var:Filter.To ?>">
<button type="submit">Search</button>
</form>
<p><a href="/admin/audit.csv?reference=<?cs var:url_escape(Filter.Reference) ?>&amp;recipient=<?cs var:url_escape(Filter.Recipient) ?>&amp;from=<?cs var:url_escape(Filter.From) ?>&amp;to=<?cs var:url_escape(Filter.To) ?>">Export these events as CSV</a></p>
<?cs if:Admin.CanChange ?><form class="inline" method="post" action="/admin/references/retract">
<input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>">
<label for="rref">Retract every message of reference</label> <input id="rref" name="reference" type="text" required maxlength="200" value="<?cs var:Filter.Reference ?>">
<button type="submit">Retract reference</button>
</form>
<?cs /if ?><div class="table-wrap" tabindex="0" role="region" aria-label="Messages"><table class="messages">
<caption>Messages, newest first (page <?cs var:Pager.Page ?>)</caption>
<thead><tr><th scope="col">Created</th><th scope="col">Reference</th><th scope="col">Sender</th><th scope="col">State</th><th scope="col">Opened</th><th scope="col">Expires</th></tr></thead>
<tbody>
<?cs each:m = Rows ?><tr><td><a href="/admin/messages/<?cs var:m.Id ?>"><?cs var:m.Created ?></a></td><td><?cs var:m.Reference ?></td><td><?cs var:m.Sender ?></td><td class="state state-<?cs var:m.State ?>"><?cs var:m.State ?></td><td><?cs var:m.Opened ?></td><td><?cs var:m.Expires ?></td></tr>
<?cs /each ?></tbody>
</table></div>
<?cs if:!subcount(Rows) ?><p>No messages match.</p>
<?cs /if ?><p class="pager"><?cs if:Pager.Prev ?><a rel="prev" href="/admin/messages?reference=<?cs var:url_escape(Filter.Reference) ?>&amp;recipient=<?cs var:url_escape(Filter.Recipient) ?>&amp;from=<?cs var:url_escape(Filter.From) ?>&amp;to=<?cs var:url_escape(Filter.To) ?>&amp;page=<?cs var:Pager.Prev ?>">Newer</a> <?cs /if ?><?cs if:Pager.Next ?><a rel="next" href="/admin/messages?reference=<?cs var:url_escape(Filter.Reference) ?>&amp;recipient=<?cs var:url_escape(Filter.Recipient) ?>&amp;from=<?cs var:url_escape(Filter.From) ?>&amp;to=<?cs var:url_escape(Filter.To) ?>&amp;page=<?cs var:Pager.Next ?>">Older</a><?cs /if ?></p>
</div>
