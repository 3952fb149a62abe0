<?cs # admin_message.cs - one message: its recipients and the timeline of
     who opened what and when. Actions only for a sender-admin. ?><nav class="admin-nav" aria-label="Admin"><a href="/admin/messages">Messages</a> <a href="/admin/recipients">Recipients</a> <a href="/admin/audit.csv">Audit export (CSV)</a>
<form class="inline" method="post" action="/admin/logout"><input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>"><span class="who"><?cs var:Admin.Login ?> (<?cs var:Admin.Role ?>)</span> <button type="submit">Log out</button></form></nav>
<div class="admin">
<h1>Message <?cs var:Msg.Reference ?></h1>
<?cs if:Page.Done ?><p class="done" role="status">Done: <?cs var:Page.Done ?>.</p>
<?cs /if ?><dl class="meta">
<dt>Id</dt><dd><?cs var:Msg.Id ?></dd>
<dt>Reference</dt><dd><?cs var:Msg.Reference ?></dd>
<dt>Sender</dt><dd><?cs var:Msg.Sender ?></dd>
<dt>Sealed</dt><dd><?cs var:Msg.Created ?></dd>
<dt>Expires</dt><dd id="expires"><?cs var:Msg.Expires ?></dd>
<dt>State</dt><dd id="state" class="state state-<?cs var:Msg.State ?>"><?cs var:Msg.State ?></dd>
</dl>
<?cs if:Admin.CanChange && Msg.Active ?><div class="actions">
<form class="inline" method="post" action="/admin/messages/<?cs var:Msg.Id ?>/retract">
<input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>">
<button type="submit" class="danger">Retract this message</button>
</form>
<form class="inline" method="post" action="/admin/messages/<?cs var:Msg.Id ?>/expiry">
<input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>">
<label for="expires-new">New expiry (7d, 6m, 1y or YYYY-MM-DD)</label> <input id="expires-new" name="expires" type="text" required maxlength="10">
<button type="submit">Change expiry</button>
</form>
</div>
<?cs /if ?><h2>Recipients</h2>
<div class="table-wrap" tabindex="0" role="region" aria-label="Recipients"><table class="deliveries">
<thead><tr><th scope="col">Recipient</th><th scope="col">Verifies by</th><th scope="col">First opened</th><th scope="col">Failed attempts</th><th scope="col">Status</th><?cs if:Admin.CanChange ?><th scope="col">Actions</th><?cs /if ?></tr></thead>
<tbody>
<?cs each:d = Deliveries ?><tr><td><?cs var:d.Address ?></td><td><?cs var:d.Kind ?></td><td><?cs var:d.FirstOpened ?></td><td><?cs var:d.Failed ?></td><td><?cs if:d.Retracted ?>retracted <?cs var:d.Retracted ?><?cs elif:d.LockedUntil ?>locked until <?cs var:d.LockedUntil ?><?cs else ?>ok<?cs /if ?></td><?cs if:Admin.CanChange ?><td><?cs if:d.LockedUntil ?><form class="inline" method="post" action="/admin/deliveries/<?cs var:d.Id ?>/unlock"><input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>"><input type="hidden" name="message" value="<?cs var:Msg.Id ?>"><button type="submit">Unlock</button></form><?cs /if ?><?cs if:!d.Retracted && Msg.Active ?><form class="inline" method="post" action="/admin/deliveries/<?cs var:d.Id ?>/retract"><input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>"><input type="hidden" name="message" value="<?cs var:Msg.Id ?>"><button type="submit" class="danger">Retract this copy</button></form><?cs /if ?></td><?cs /if ?></tr>
<?cs /each ?></tbody>
</table></div>
<h2>Timeline</h2>
<div class="table-wrap" tabindex="0" role="region" aria-label="Timeline"><table class="timeline">
<thead><tr><th scope="col">Time</th><th scope="col">What</th><th scope="col">Recipient</th><th scope="col">Client</th><th scope="col">Browser</th><th scope="col">Detail</th></tr></thead>
<tbody>
<?cs each:e = Events ?><tr class="ev ev-<?cs var:e.Kind ?>"><td><?cs var:e.At ?></td><td><?cs var:e.Label ?><?cs if:e.Automated ?> <span class="auto">(likely automated: a mail scanner, no verification followed)</span><?cs /if ?></td><td><?cs var:e.Recipient ?></td><td><?cs var:e.Client ?></td><td class="ua"><?cs var:e.Agent ?></td><td><?cs var:e.Detail ?></td></tr>
<?cs /each ?></tbody>
</table></div>
<p class="pager"><?cs if:Pager.Prev ?><a rel="prev" href="/admin/messages/<?cs var:Msg.Id ?>?page=<?cs var:Pager.Prev ?>">Earlier events</a> <?cs /if ?><?cs if:Pager.Next ?><a rel="next" href="/admin/messages/<?cs var:Msg.Id ?>?page=<?cs var:Pager.Next ?>">Later events</a><?cs /if ?></p>
<p><a href="/admin/audit.csv?reference=<?cs var:url_escape(Msg.Reference) ?>">Export this reference's events as CSV</a></p>
</div>
